"""Following a request: the SMS link (way 1); the phone-verified view comes later."""

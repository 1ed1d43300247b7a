"""The citizen's journey: home, e-Service menu, phone and OTP steps, form, success."""

"""OSS-LOCAL e-Service portal: citizens file requests to their local office and track them."""

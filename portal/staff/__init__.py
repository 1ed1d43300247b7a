"""The office back office: staff accounts and sign-in, inbox, request work, audit."""

"""Photos and PDFs citizens attach to a request, and staff's "after" photos (issue 9)."""

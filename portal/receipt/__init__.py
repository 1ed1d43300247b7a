"""The receipt (ใบรับคำร้อง): a printable page and a PDF with a QR code of the tracking link."""

"""Official documents (公文) as plain data and their writers, laid out to GB/T 9704-2012."""

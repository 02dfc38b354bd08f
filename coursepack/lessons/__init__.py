"""What chapters import: validated data, accessible charts, widgets and each chapter's helpers."""

"""The HTML book: its build, offline assets, chart renderers and the pages generated from the data and exercises."""

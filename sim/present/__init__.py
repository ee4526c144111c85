"""Presentation of saved results: terminal tables, figures and the HTML report."""

"""What the student chooses: data sources, the training form, shared links.

Widget values that must outlive a page change are kept by :mod:`ui.forms.state`.
"""

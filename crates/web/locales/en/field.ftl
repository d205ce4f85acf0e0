# The field pages.

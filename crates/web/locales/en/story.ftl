# The story pages.

# The prosecutor pages.

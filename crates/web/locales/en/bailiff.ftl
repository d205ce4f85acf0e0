# The bailiff pages.

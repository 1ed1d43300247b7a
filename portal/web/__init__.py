"""Small web helpers shared by the feature packages: rendering, redirects, errors."""

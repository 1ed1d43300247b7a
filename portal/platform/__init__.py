"""The platform: offices as data, managed by the ``platform_admin`` role on the default office
(the platform's own host), and by ``portal office`` on the command line."""

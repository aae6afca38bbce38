"""Identity: tenants and branding, staff users, API tokens, customers and contacts."""

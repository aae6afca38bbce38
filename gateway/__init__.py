"""The API gateway: host -> tenant, authentication, the JSON API over gRPC."""

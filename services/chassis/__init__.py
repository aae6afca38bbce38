"""The microservice chassis every service stands on. No business logic lives here."""

"""The portal's services: one package each, sharing only services.chassis."""

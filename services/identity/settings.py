from services.chassis.settings import ServiceSettings, service_config


class IdentitySettings(ServiceSettings):
    model_config = service_config("IDENTITY_")

    # argon2id for passwords; the defaults are the OWASP/ASVS floor (19 MiB, t=2, p=1).
    # Raising them is safe: existing hashes are upgraded at the next sign-in.
    argon2_time_cost: int = 2
    argon2_memory_cost: int = 19456  # KiB
    argon2_parallelism: int = 1
    # How often the job purges customers deleted more than 30 days ago and prunes
    # throttling records, expired sessions and spent links.
    purge_interval_seconds: float = 3600.0

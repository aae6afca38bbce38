from services.chassis.settings import ServiceSettings, service_config


class BookingsSettings(ServiceSettings):
    model_config = service_config("BOOKINGS_")

    # Bookings asks projects, as the caller, for the project's site and the
    # rooms and products the caller may see; required.
    projects_target: str = ""

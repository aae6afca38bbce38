from services.chassis.settings import ServiceSettings, service_config


class ProjectsSettings(ServiceSettings):
    model_config = service_config("PROJECTS_")

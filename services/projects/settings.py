from services.chassis.settings import ServiceSettings, service_config


class ProjectsSettings(ServiceSettings):
    model_config = service_config("PROJECTS_")

    # Where signed proposals are filed; empty means they are not filed.
    documents_target: str = ""

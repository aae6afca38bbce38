from services.chassis.settings import ServiceSettings, service_config


class ProjectsSettings(ServiceSettings):
    model_config = service_config("PROJECTS_")

    # Where signed proposals are filed (projects calls documents); required.
    documents_target: str = ""

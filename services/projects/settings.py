from services.chassis.settings import ServiceSettings, service_config


class ProjectsSettings(ServiceSettings):
    model_config = service_config("PROJECTS_")

    # Where signed proposals are filed (projects calls documents); required.
    documents_target: str = ""
    # Whose customers and contacts projects are for (projects calls identity); required.
    identity_target: str = ""

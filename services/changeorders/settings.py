from services.chassis.settings import ServiceSettings, service_config


class ChangeOrdersSettings(ServiceSettings):
    model_config = service_config("CHANGEORDERS_")

    # The contract baseline and stage dates come from projects; required.
    projects_target: str = ""
    # The diff's effect on the payment milestones comes from payments; required.
    payments_target: str = ""
    # Where approved orders' certificates are filed (changeorders calls documents); required.
    documents_target: str = ""
    # How often orders past their approval deadline are marked expired.
    expiry_interval_seconds: float = 60.0

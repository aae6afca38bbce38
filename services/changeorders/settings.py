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
    # Approvals at once, and waiting (each at most this long); the rest are
    # refused at once (503 + Retry-After at the gateway) instead of queueing
    # for the cores into the gateway's deadline (chassis.admission).
    approvals_in_flight: int = 8
    approvals_waiting: int = 64
    approvals_wait_seconds: float = 2.0
    # An approval that arrives (or would start) with less of the gateway's
    # deadline left than this is refused at once rather than ending as a 504.
    approvals_needs_seconds: float = 2.5

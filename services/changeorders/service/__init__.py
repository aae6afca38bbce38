"""Changeorders' use cases: one transaction each, through the unit of work."""

from services.changeorders.service.audit import Trail, get_audit_trail, verify_by_number
from services.changeorders.service.certificates import Certificate, get_certificate_pdf
from services.changeorders.service.common import OrderView, ProjectsReader, Sessions
from services.changeorders.service.decisions import approve_change_order
from services.changeorders.service.drafting import (
    UPDATABLE,
    create_change_order,
    current_contract,
    update_change_order,
)
from services.changeorders.service.expiry import expire_due
from services.changeorders.service.filing import DocumentArchive, on_change_order_approved
from services.changeorders.service.push_back import push_back_change_order
from services.changeorders.service.reads import (
    Comparison,
    Summary,
    compare_revisions,
    get_change_order,
    list_change_orders,
)
from services.changeorders.service.sending import (
    revise_change_order,
    send_change_order,
    withdraw_change_order,
)

__all__ = [
    "UPDATABLE",
    "Certificate",
    "Comparison",
    "DocumentArchive",
    "OrderView",
    "ProjectsReader",
    "Sessions",
    "Summary",
    "Trail",
    "approve_change_order",
    "compare_revisions",
    "create_change_order",
    "current_contract",
    "expire_due",
    "get_audit_trail",
    "get_certificate_pdf",
    "get_change_order",
    "list_change_orders",
    "on_change_order_approved",
    "push_back_change_order",
    "revise_change_order",
    "send_change_order",
    "update_change_order",
    "verify_by_number",
    "withdraw_change_order",
]

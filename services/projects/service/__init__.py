"""Projects use cases: one transaction each, through the unit of work.

Split by area; everything a caller needs is importable from here.
"""

from services.projects.service.acceptance import (
    SignedCopyArchive,
    SignedPdf,
    accept_proposal,
    get_signed_proposal_pdf,
    on_proposal_accepted,
)
from services.projects.service.board import Budget, StatusBoard, get_status_board
from services.projects.service.change_order_board import (
    CHANGE_ORDER_EVENTS,
    on_change_order_event,
)
from services.projects.service.common import Customers, Sessions, Tenants
from services.projects.service.payment_board import (
    INVOICE_EVENTS,
    on_invoice_event,
    on_payment_plan_changed,
)
from services.projects.service.projects import (
    create_project,
    get_project,
    list_projects,
    list_projects_and_board,
    update_project,
)
from services.projects.service.proposal_common import ProposalView
from services.projects.service.proposals import (
    create_proposal,
    get_proposal,
    list_proposals,
    send_proposal,
    update_proposal,
)
from services.projects.service.rooms import (
    LineView,
    RoomView,
    add_product_line,
    create_room,
    delete_room,
    list_rooms,
    remove_product_line,
    update_product_line,
    update_room,
)
from services.projects.service.stage_moves import change_project_stage
from services.projects.service.stages import HistoryEntry, list_stage_history, update_stage
from services.projects.service.variations import on_change_order_approved
from services.projects.service.waiting import open_waiting_item, resolve_waiting_item

__all__ = [
    "CHANGE_ORDER_EVENTS",
    "INVOICE_EVENTS",
    "Budget",
    "Customers",
    "HistoryEntry",
    "LineView",
    "ProposalView",
    "RoomView",
    "Sessions",
    "SignedCopyArchive",
    "SignedPdf",
    "StatusBoard",
    "Tenants",
    "accept_proposal",
    "add_product_line",
    "change_project_stage",
    "create_project",
    "create_proposal",
    "create_room",
    "delete_room",
    "get_project",
    "get_proposal",
    "get_signed_proposal_pdf",
    "get_status_board",
    "list_projects",
    "list_projects_and_board",
    "list_proposals",
    "list_rooms",
    "list_stage_history",
    "on_change_order_approved",
    "on_change_order_event",
    "on_invoice_event",
    "on_payment_plan_changed",
    "on_proposal_accepted",
    "open_waiting_item",
    "remove_product_line",
    "resolve_waiting_item",
    "send_proposal",
    "update_product_line",
    "update_project",
    "update_proposal",
    "update_room",
    "update_stage",
]

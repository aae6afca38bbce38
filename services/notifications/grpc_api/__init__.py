"""NotificationsService over gRPC: translate, call the use case, translate back."""

from __future__ import annotations

from portal.notifications.v1 import notifications_pb2 as pb
from portal.notifications.v1 import notifications_pb2_grpc

from services.chassis.auth import current_principal
from services.notifications import service
from services.notifications.grpc_api.convert import email_pb


class NotificationsServicer(notifications_pb2_grpc.NotificationsServiceServicer):
    def __init__(self, sessions) -> None:
        self._sessions = sessions

    async def ListEmails(self, request, context):
        emails = await service.list_emails(
            sessions=self._sessions,
            principal=current_principal(),
            page_size=request.page.page_size,
        )
        return pb.ListEmailsResponse(emails=[email_pb(e) for e in emails])

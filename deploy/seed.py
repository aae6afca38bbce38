"""The demo integrator, seeded through the services' public gRPC contracts.

Idempotent: a second run finds the tenant and only fills what is missing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

import grpc
from portal.bookings.v1 import bookings_pb2_grpc
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1 import identity_pb2_grpc
from portal.payments.v1 import payments_pb2_grpc
from portal.projects.v1 import projects_pb2 as ppb
from portal.projects.v1 import projects_pb2_grpc

from deploy.seed_bookings import seed_bookings
from deploy.seed_brand import seed_logo
from deploy.seed_cinema import seed_cinema
from deploy.seed_payments import (
    DEPOSIT,
    INSTALL,
    DemoMoney,
    connect_books,
    pay_deposit,
    set_pay_settings,
    wait_for_milestone,
)
from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.letterhead import letterhead_of

DEMO_SLUG = "acme"
# Demo logins only, printed by `make run`; never a real deployment's.
DEMO_PASSWORD = "portal-demo-2026"  # noqa: S105
# Fixed request ids make every create idempotent across runs.
NS = uuid.UUID("6f1c0c9e-3a52-4c1e-9a55-8c1d2f0b7e11")


def rid(name: str) -> str:
    return str(uuid.uuid5(NS, name))


async def _token_works(identity, call: Caller, principal: Principal, token: str | None) -> bool:
    if not token:
        return False
    try:
        await call(
            identity.AuthenticateApiToken, ipb.AuthenticateApiTokenRequest(secret=token), principal
        )
    except grpc.aio.AioRpcError:
        return False
    return True


@dataclass
class DemoData:
    tenant_id: str
    slug: str
    staff_email: str
    staff_token: str
    customer_id: str
    contacts: list[dict]
    project_id: str
    money: DemoMoney
    service_type_id: str = ""  # the projector check the demo client can book
    technician_ids: list[str] = field(default_factory=list)


async def seed_demo(
    *,
    identity_target: str,
    projects_target: str,
    payments_target: str,
    bookings_target: str,
    private_key: str,
    known_token: str | None,
    stripe_url: str | None = None,
    stripe_key: str = "",
    books_callback: str | None = None,
) -> DemoData:
    """`stripe_url`: localstripe's, when it runs (the deposit is paid by card).
    `books_callback`: the console's accounting callback, when the local books
    sandbox runs (the demo integrator connects QuickBooks Online to it)."""
    call = Caller(PrincipalSigner(private_key))
    platform = Principal(kind="platform", subject="seed")
    async with (
        open_channel(identity_target) as ich,
        open_channel(projects_target) as pch,
        open_channel(payments_target) as paych,
        open_channel(bookings_target) as bch,
    ):
        identity = identity_pb2_grpc.IdentityServiceStub(ich)
        projects = projects_pb2_grpc.ProjectsServiceStub(pch)
        payments = payments_pb2_grpc.PaymentsServiceStub(paych)
        try:
            tenant = (
                await call(
                    identity.GetTenantBySlug, ipb.GetTenantBySlugRequest(slug=DEMO_SLUG), platform
                )
            ).tenant
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            tenant = (
                await call(
                    identity.CreateTenant,
                    ipb.CreateTenantRequest(
                        request_id=rid("tenant"),
                        slug=DEMO_SLUG,
                        display_name="Acme Home Cinema & Automation",
                        branding=ipb.Branding(
                            headline="Your home cinema, built right — follow every step.",
                            accent_color="#b4442b",
                            support_email="studio@acme-av.example",
                            support_phone="+1 555 0134",
                            postal_address="418 Hudson Street, Suite 2\nNew York, NY 10014",
                            website="https://acme-av.example",
                        ),
                        time_zone="America/New_York",
                        currency="USD",
                        region="US",
                    ),
                    platform,
                )
            ).tenant
        as_tenant = Principal(kind="platform", subject="seed", tenant_id=tenant.id)
        tenant, print_logo = await seed_logo(
            call=call, identity=identity, principal=as_tenant, tenant=tenant
        )

        staff_email = "olivia@acme-av.example"
        owner = (
            await call(
                identity.CreateStaffUser,
                ipb.CreateStaffUserRequest(
                    request_id=rid("owner"),
                    email=staff_email,
                    full_name="Olivia Grant",
                    roles=[ipb.STAFF_ROLE_OWNER],
                    initial_password=DEMO_PASSWORD,
                ),
                as_tenant,
            )
        ).user
        token = known_token if await _token_works(identity, call, as_tenant, known_token) else None
        if token is None:
            # The secret exists only in the response that issued it: issue a new one.
            issued = await call(
                identity.IssueApiToken,
                ipb.IssueApiTokenRequest(
                    request_id=str(uuid.uuid4()), user_id=owner.id, name="demo token"
                ),
                as_tenant,
            )
            token = issued.secret

        customer = (
            await call(
                identity.CreateCustomer,
                ipb.CreateCustomerRequest(
                    request_id=rid("customer"),
                    name="The Harrison Residence",
                    contacts=[
                        ipb.NewContact(
                            email="jane.harrison@example.com",
                            full_name="Jane Harrison",
                            role=ipb.CONTACT_ROLE_APPROVER,
                            initial_password=DEMO_PASSWORD,
                        ),
                        ipb.NewContact(
                            email="tom.harrison@example.com",
                            full_name="Tom Harrison",
                            role=ipb.CONTACT_ROLE_VIEWER,
                            initial_password=DEMO_PASSWORD,
                        ),
                    ],
                ),
                as_tenant,
            )
        ).customer

        staff = Principal(kind="service", subject="seed", tenant_id=tenant.id)
        project = (
            await call(
                projects.CreateProject,
                ppb.CreateProjectRequest(
                    request_id=rid("project"),
                    name="Home cinema & whole-home audio",
                    customer_id=customer.id,
                    site_address="14 Larch Lane, Westport, CT 06880",
                ),
                staff,
            )
        ).project
        jane = next(c for c in customer.contacts if c.role == ipb.CONTACT_ROLE_APPROVER)
        approver = Principal(
            kind="client",
            subject=jane.id,
            tenant_id=tenant.id,
            customer_id=customer.id,
            roles=frozenset({"approver"}),
        )
        await seed_cinema(
            call=call,
            projects=projects,
            staff=staff,
            approver=approver,
            project_id=project.id,
            today=date.today(),
            signed_copy={
                "letterhead": letterhead_of(tenant, logo=print_logo),
                "signer_email": jane.email,
                "client_name": customer.name,
            },
        )
        # Signed at design; the deposit exists (payments issued it from the
        # acceptance) before the stages move on, so the install milestone is
        # issued from the stage change: projects' two events reach payments on
        # separate consumers, in either order.
        await set_pay_settings(
            call=call, payments=payments, owner=staff, with_stripe=bool(stripe_url)
        )
        if books_callback:
            await connect_books(
                call=call, payments=payments, owner=staff, redirect_uri=books_callback
            )
        deposit = await wait_for_milestone(
            call=call, payments=payments, staff=staff, project_id=project.id, milestone=DEPOSIT
        )
        deposit, paid_by = await pay_deposit(
            call=call,
            payments=payments,
            staff=staff,
            approver=approver,
            deposit=deposit,
            stripe_url=stripe_url,
            stripe_key=stripe_key,
        )
        for stage in (ppb.STAGE_PROCUREMENT, ppb.STAGE_INSTALL):
            if project.stage < stage:
                project = (
                    await call(
                        projects.ChangeProjectStage,
                        ppb.ChangeProjectStageRequest(
                            request_id=rid(f"project-stage-{stage}"),
                            project_id=project.id,
                            stage=stage,
                        ),
                        staff,
                    )
                ).project
        install = await wait_for_milestone(
            call=call, payments=payments, staff=staff, project_id=project.id, milestone=INSTALL
        )
        visits = await seed_bookings(
            call=call,
            identity=identity,
            projects=projects,
            bookings=bookings_pb2_grpc.BookingsServiceStub(bch),
            tenant=tenant,
            project_id=project.id,
            rid=rid,
            today=date.today(),
        )
    return DemoData(
        tenant_id=tenant.id,
        slug=tenant.slug,
        staff_email=staff_email,
        staff_token=token,
        customer_id=customer.id,
        contacts=[
            {
                "email": c.email,
                "name": c.full_name,
                "role": ipb.ContactRole.Name(c.role).removeprefix("CONTACT_ROLE_").lower(),
            }
            for c in customer.contacts
        ],
        project_id=project.id,
        money=DemoMoney(deposit=deposit, install=install, paid_by=paid_by),
        service_type_id=visits.service_type_id,
        technician_ids=visits.technicians,
    )

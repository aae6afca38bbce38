"""Payments: invoices, the payment plan, Stripe pay-now, offline payments,
refunds and the accounting sync. See README.md."""

"""Small worlds with hand-checkable answers, shared by the tests."""

from __future__ import annotations

import pandas as pd

from features.contracts import CONTRACTS, with_all_columns
from features.ingest.parsing import parse_table


def clean_tables() -> dict[str, pd.DataFrame]:
    """A tiny valid world, every value a string as in a CSV file."""
    return {
        "customers": pd.DataFrame(
            {
                "customer_id": ["C1", "C2", "C3"],
                "signup_at": ["2023-01-05T10:00:00Z", "2023-02-01T00:00:00Z", "2023-03-01"],
                "country": ["DE", "FR", "US"],
                "marketing_opt_in": ["true", "false", "yes"],
            }
        ),
        "purchases": pd.DataFrame(
            {
                "order_id": ["O1", "O2", "O3"],
                "customer_id": ["C1", "C2", "C1"],
                "ordered_at": ["2024-01-01T10:00:00Z", "2024-02-01T10:00:00Z", "2024-03-01"],
                "amount": ["10.5", "0", "99"],
                "discount": ["0.1", "", "0"],
                "status": ["completed", "returned", "cancelled"],
            }
        ),
        "support_tickets": pd.DataFrame(
            {
                "ticket_id": ["T1", "T2", "T3"],
                "customer_id": ["C1", "C2", "C3"],
                "opened_at": ["2024-01-02T00:00:00Z", "2024-02-02T00:00:00Z", "2024-03-02"],
                "resolved_at": ["2024-01-03T00:00:00Z", "", "2024-03-02T05:00:00Z"],
                "priority": ["low", "urgent", "normal"],
                "csat": ["5", "", "3"],
                "reopened": ["0", "1", "0"],
            }
        ),
        "survey_responses": pd.DataFrame(
            {
                "response_id": ["S1", "S2", "S3"],
                "customer_id": ["C1", "C2", "C3"],
                "responded_at": ["2024-01-05T00:00:00Z", "2024-02-05T00:00:00Z", "2024-03-05"],
                "survey_type": ["nps", "csat", "ces"],
                "score": ["10", "4", "7"],
                "comment": ["Love it", "", "ok"],
            }
        ),
        "advocacy_events": pd.DataFrame(
            {
                "event_id": ["A1", "A2", "A3"],
                "customer_id": ["C1", "C1", "C2"],
                "occurred_at": ["2024-04-01T00:00:00Z", "2024-05-01T00:00:00Z", "2024-06-01"],
                "event_type": ["referral", "review", "community_post"],
                "referred_customer_id": ["C3", "", ""],
                "rating": ["", "5", ""],
            }
        ),
    }


def typed(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """String tables typed as the curated store holds them."""
    return {
        name: with_all_columns(parse_table(frame, CONTRACTS[name])[0], CONTRACTS[name])
        for name, frame in tables.items()
    }

"""The review queue's statuses are named once (identity.models) and the API's parameter type agrees."""

from __future__ import annotations

from typing import get_args

from kosh.identity.models import UNDECIDED, ReviewStatus, ReviewStatusName


def test_the_api_parameter_type_names_the_same_statuses_in_the_same_order() -> None:
    assert get_args(ReviewStatusName) == tuple(ReviewStatus)


def test_a_pair_is_undecided_while_open_or_deferred() -> None:
    assert set(UNDECIDED) == {ReviewStatus.OPEN, ReviewStatus.DEFERRED}

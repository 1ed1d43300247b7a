from datetime import UTC, datetime

from portal.web.templating import english_date, thai_date

MOMENT = datetime(2026, 11, 26, 14, 5, tzinfo=UTC)


def test_thai_dates_are_buddhist_era_in_bangkok_time() -> None:
    assert thai_date(MOMENT) == "26 พ.ย. 2569 21:05"
    assert thai_date(MOMENT, with_time=False) == "26 พ.ย. 2569"


def test_english_dates_are_gregorian_in_bangkok_time() -> None:
    assert english_date(MOMENT) == "26 Nov 2026 21:05"

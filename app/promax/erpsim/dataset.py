"""The simulator's demo company: customers, items, two years of sales invoices and the rest.

Everything derives from ``random.Random(seed)``, so one seed always gives the
same documents, names and `modified` timestamps. Money is Decimal rounded to
cents and an invoice's grand total is the sum of its item amounts (no taxes).
A few documents share one `modified` value on purpose, so a sync that pages
by `modified` alone would skip or repeat rows at page borders.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

COMPANY = "Demo Trading Ltd"
COMPANY_ABBR = "DTL"
CURRENCY = "USD"
DEFAULT_SEED = 20241204
CUSTOMER_COUNT = 40
ITEM_COUNT = 30
REGULAR_INVOICE_COUNT = 2940
RETURN_COUNT = 60
FIRST_DAY = date(2024, 1, 1)
LAST_DAY = date(2025, 12, 31)
CENT = Decimal("0.01")

CUSTOMER_WORDS = (
    "Acme", "Blue", "Cedar", "Delta", "Eagle", "Falcon", "Granite", "Harbor", "Iron", "Juniper",
    "Keystone", "Lumen", "Maple", "Northern", "Orchid", "Pioneer", "Quartz", "River", "Summit",
    "Tidal", "Union", "Vertex", "Willow", "Zenith",
)
CUSTOMER_KINDS = ("Traders", "Supplies", "Retail", "Foods", "Logistics", "Builders", "Labs")
CUSTOMER_GROUPS = ("Commercial", "Individual", "Government", "Non Profit")
TERRITORIES = ("United States", "Canada", "United Kingdom", "Germany", "Kenya", "India")
ITEM_NOUNS = (
    "Bolt", "Cable", "Drill", "Filter", "Gasket", "Hinge", "Lamp", "Motor", "Panel", "Pump",
    "Relay", "Sensor", "Switch", "Valve", "Wrench",
)
ITEM_GRADES = ("Standard", "Pro")
ITEM_GROUPS = ("Products", "Raw Material", "Consumable", "Services")
UOMS = ("Nos", "Box", "Kg", "Hour")


def money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Dataset:
    seed: int
    customers: list = field(default_factory=list)
    items: list = field(default_factory=list)
    # Each invoice dict carries its child rows under "items".
    invoices: list = field(default_factory=list)
    # Filled by promax.erpsim.documents.extend_dataset.
    companies: list = field(default_factory=list)
    suppliers: list = field(default_factory=list)
    item_groups: list = field(default_factory=list)
    warehouses: list = field(default_factory=list)
    accounts: list = field(default_factory=list)
    cost_centers: list = field(default_factory=list)
    purchase_invoices: list = field(default_factory=list)
    sales_orders: list = field(default_factory=list)
    purchase_orders: list = field(default_factory=list)
    payment_entries: list = field(default_factory=list)
    gl_entries: list = field(default_factory=list)
    stock_ledger_entries: list = field(default_factory=list)
    bins: list = field(default_factory=list)

    def customer_names(self):
        return {customer["name"]: customer["customer_name"] for customer in self.customers}


def _timestamp(rng, day, start_hour=8, end_hour=18):
    seconds = rng.randrange(start_hour * 3600, end_hour * 3600)
    return datetime.combine(day, time()) + timedelta(
        seconds=seconds, microseconds=rng.randrange(1, 1_000_000)
    )


def _share_modified(rng, documents, probability):
    """Copy one document's `modified` onto its neighbours, as a bulk update would."""
    index = 1
    while index < len(documents):
        if rng.random() < probability:
            run = rng.randint(2, 5)
            for offset in range(1, run):
                if index + offset - 1 < len(documents):
                    documents[index + offset - 1]["modified"] = documents[index - 1]["modified"]
            index += run
        else:
            index += 1


def _make_customers(rng):
    customers = []
    used = set()
    for number in range(1, CUSTOMER_COUNT + 1):
        while True:
            customer_name = f"{rng.choice(CUSTOMER_WORDS)} {rng.choice(CUSTOMER_KINDS)}"
            if customer_name not in used:
                used.add(customer_name)
                break
        created = _timestamp(rng, date(2023, 6, 1) + timedelta(days=rng.randrange(180)))
        customers.append(
            {
                "name": f"CUST-{number:05d}",
                "customer_name": customer_name,
                "customer_type": "Company",
                "customer_group": rng.choice(CUSTOMER_GROUPS),
                "territory": rng.choice(TERRITORIES),
                "default_currency": CURRENCY,
                "disabled": 1 if rng.random() < 0.05 else 0,
                "creation": created,
                "modified": created + timedelta(days=rng.randrange(30), microseconds=rng.randrange(1, 10**6)),
                "owner": "Administrator",
                "modified_by": "Administrator",
                "docstatus": 0,
                "idx": 0,
            }
        )
    _share_modified(rng, customers, 0.15)
    return customers


def _make_items(rng):
    items = []
    for number in range(1, ITEM_COUNT + 1):
        group = rng.choice(ITEM_GROUPS)
        created = _timestamp(rng, date(2023, 5, 1) + timedelta(days=rng.randrange(150)))
        items.append(
            {
                "name": f"ITEM-{number:04d}",
                "item_code": f"ITEM-{number:04d}",
                "item_name": f"{rng.choice(ITEM_NOUNS)} {rng.choice(ITEM_GRADES)} {number}",
                "item_group": group,
                "stock_uom": "Hour" if group == "Services" else rng.choice(UOMS[:3]),
                "is_stock_item": 0 if group == "Services" else 1,
                "standard_rate": money(rng.uniform(5, 500)),
                "disabled": 0,
                "creation": created,
                "modified": created + timedelta(days=rng.randrange(60), microseconds=rng.randrange(1, 10**6)),
                "owner": "Administrator",
                "modified_by": "Administrator",
                "docstatus": 0,
                "idx": 0,
            }
        )
    _share_modified(rng, items, 0.15)
    return items


class _RowNames:
    """Unique 10-hex-digit child row names, like Frappe's random hash names."""

    def __init__(self, rng):
        self.rng = rng
        self.used = set()

    def next(self):
        while True:
            name = f"{self.rng.getrandbits(40):010x}"
            if name not in self.used:
                self.used.add(name)
                return name


def _invoice_rows(rng, row_names, items, lines):
    """Return child rows for (item, qty, rate) lines."""
    rows = []
    for index, (item, qty, rate) in enumerate(lines, start=1):
        amount = money(qty * rate)
        rows.append(
            {
                "name": row_names.next(),
                "parenttype": "Sales Invoice",
                "parentfield": "items",
                "idx": index,
                "item_code": item["name"],
                "item_name": item["item_name"],
                "uom": item["stock_uom"],
                "qty": Decimal(qty),
                "rate": rate,
                "amount": amount,
                "base_rate": rate,
                "base_amount": amount,
                "warehouse": f"Stores - {COMPANY_ABBR}",
                "cost_center": f"Main - {COMPANY_ABBR}",
                "income_account": f"Sales - {COMPANY_ABBR}",
            }
        )
    return rows


def _new_invoice(customer, posting_date, rows, modified, docstatus):
    total = sum((row["amount"] for row in rows), Decimal("0.00"))
    return {
        "customer": customer["name"],
        "customer_name": customer["customer_name"],
        "company": COMPANY,
        "posting_date": posting_date,
        "due_date": posting_date + timedelta(days=30),
        "currency": CURRENCY,
        "conversion_rate": Decimal("1"),
        "total": total,
        "net_total": total,
        "grand_total": total,
        "base_grand_total": total,
        "outstanding_amount": Decimal("0.00"),
        "is_return": 0,
        "return_against": None,
        "status": "",
        "docstatus": docstatus,
        "creation": modified,
        "modified": modified,
        "owner": "Administrator",
        "modified_by": "Administrator",
        "naming_series": "ACC-SINV-.YYYY.-",
        "idx": 0,
        "items": rows,
    }


def _make_invoices(rng, customers, items):
    row_names = _RowNames(rng)
    # A few customers buy much more than the rest, so the top-10 list is stable.
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(customers))]
    rng.shuffle(weights)
    span = (LAST_DAY - FIRST_DAY).days + 1

    invoices = []
    for _ in range(REGULAR_INVOICE_COUNT):
        posting_date = FIRST_DAY + timedelta(days=rng.randrange(span))
        customer = rng.choices(customers, weights)[0]
        lines = []
        for item in rng.sample(items, rng.randint(1, 5)):
            rate = money(item["standard_rate"] * Decimal(str(round(rng.uniform(0.9, 1.1), 4))))
            lines.append((item, rng.randint(1, 20), rate))
        roll = rng.random()
        if roll < 0.03:
            docstatus = 0
        elif roll < 0.08:
            docstatus = 2
        else:
            docstatus = 1
        created = _timestamp(rng, posting_date)
        modified = created + timedelta(minutes=rng.randrange(1, 240))
        if docstatus == 2:
            modified += timedelta(days=rng.randrange(1, 20))
        invoice = _new_invoice(customer, posting_date, _invoice_rows(rng, row_names, items, lines), modified, docstatus)
        invoice["creation"] = created
        if docstatus == 0:
            invoice["status"] = "Draft"
        elif docstatus == 2:
            invoice["status"] = "Cancelled"
        elif rng.random() < 0.75:
            invoice["status"] = "Paid"
        else:
            invoice["status"] = "Unpaid" if invoice["due_date"] >= LAST_DAY else "Overdue"
            invoice["outstanding_amount"] = invoice["grand_total"]
        invoices.append(invoice)

    submitted = [invoice for invoice in invoices if invoice["docstatus"] == 1]
    returns = []
    for original in rng.sample(submitted, RETURN_COUNT):
        posting_date = min(original["posting_date"] + timedelta(days=rng.randint(1, 30)), LAST_DAY)
        lines = []
        for row in rng.sample(original["items"], rng.randint(1, len(original["items"]))):
            item = next(item for item in items if item["name"] == row["item_code"])
            lines.append((item, -rng.randint(1, int(row["qty"])), row["rate"]))
        modified = _timestamp(rng, posting_date)
        customer = next(c for c in customers if c["name"] == original["customer"])
        credit_note = _new_invoice(customer, posting_date, _invoice_rows(rng, row_names, items, lines), modified, 1)
        credit_note["is_return"] = 1
        credit_note["status"] = "Return"
        credit_note["against"] = original
        original["status"] = "Credit Note Issued"
        returns.append(credit_note)

    everything = sorted(invoices + returns, key=lambda invoice: (invoice["posting_date"], invoice["creation"]))
    counters = {}
    for invoice in everything:
        year = invoice["posting_date"].year
        counters[year] = counters.get(year, 0) + 1
        invoice["name"] = f"ACC-SINV-{year}-{counters[year]:05d}"
    for invoice in everything:
        original = invoice.pop("against", None)
        if original is not None:
            invoice["return_against"] = original["name"]
        for row in invoice["items"]:
            row["parent"] = invoice["name"]
            row["docstatus"] = invoice["docstatus"]
            row["creation"] = invoice["creation"]
            row["modified"] = invoice["modified"]

    # Bulk submissions give runs of invoices one `modified` value.
    by_modified = sorted(everything, key=lambda invoice: invoice["modified"])
    _share_modified(rng, by_modified, 0.04)
    for invoice in everything:
        for row in invoice["items"]:
            row["modified"] = invoice["modified"]
    return everything


def build_dataset(seed=DEFAULT_SEED):
    """Generate the demo company's documents from a seed."""
    rng = random.Random(seed)
    customers = _make_customers(rng)
    items = _make_items(rng)
    invoices = _make_invoices(rng, customers, items)
    dataset = Dataset(seed=seed, customers=customers, items=items, invoices=invoices)

    from promax.erpsim.documents import extend_dataset

    return extend_dataset(dataset)

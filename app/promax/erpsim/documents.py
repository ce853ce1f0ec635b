"""The simulator's masters, buying, orders, payments and ledgers, built beside the sales data.

These documents come from their own ``random.Random``, seeded from the
dataset seed, so adding them left the sales invoices (and the figures tests
expect from them) unchanged. Ledger entries start under 10-hex-digit names,
as Frappe inserts them, and ``Collections.rename_ledger_entries`` renames
them the way the ERP does later.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from promax.erpsim.dataset import COMPANY, COMPANY_ABBR, CURRENCY, FIRST_DAY, LAST_DAY, money

SUPPLIER_COUNT = 12
PURCHASE_INVOICE_COUNT = 240
SALES_ORDER_COUNT = 300
PURCHASE_ORDER_COUNT = 160
PAYMENT_ENTRY_COUNT = 400
# Salted so these documents never share random draws with the sales data.
SEED_SALT = 0x5EED

WAREHOUSES = ("Stores", "Finished Goods", "Work In Progress")
SUPPLIER_GROUPS = ("Raw Material", "Services", "Hardware")
MODES_OF_PAYMENT = ("Bank Draft", "Wire Transfer", "Cash", "Cheque")
# (account name, number, root type, account type); the company suffix is added below.
ACCOUNTS = (
    ("Debtors", "1310", "Asset", "Receivable"),
    ("Bank", "1200", "Asset", "Bank"),
    ("Cash", "1110", "Asset", "Cash"),
    ("Stock In Hand", "1410", "Asset", "Stock"),
    ("Creditors", "2110", "Liability", "Payable"),
    ("Sales", "4110", "Income", "Income Account"),
    ("Cost of Goods Sold", "5111", "Expense", "Cost of Goods Sold"),
    ("Stock Received But Not Billed", "2210", "Liability", "Stock Received But Not Billed"),
)


def _account(name):
    return f"{name} - {COMPANY_ABBR}"


def _stamp(rng, day):
    return datetime.combine(day, time()) + timedelta(
        seconds=rng.randrange(8 * 3600, 18 * 3600), microseconds=rng.randrange(1, 1_000_000)
    )


def _master(name, modified, **fields):
    return {"name": name, "modified": modified, "creation": modified, "docstatus": 0, **fields}


class _Hashes:
    def __init__(self, rng):
        self.rng = rng
        self.used = set()

    def next(self):
        while True:
            name = f"{self.rng.getrandbits(40):010x}"
            if name not in self.used:
                self.used.add(name)
                return name


def build_masters(rng, dataset):
    base = datetime(2023, 4, 1, 9, 0, 0, 1)
    dataset.companies = [
        _master(COMPANY, base, company_name=COMPANY, abbr=COMPANY_ABBR,
                default_currency=CURRENCY, country="United States")
    ]
    groups = sorted({item["item_group"] for item in dataset.items})
    dataset.item_groups = [
        _master("All Item Groups", base, item_group_name="All Item Groups", parent_item_group="",
                is_group=1)
    ] + [
        _master(group, base + timedelta(minutes=index + 1), item_group_name=group,
                parent_item_group="All Item Groups", is_group=0)
        for index, group in enumerate(groups)
    ]
    dataset.warehouses = [
        _master(f"{name} - {COMPANY_ABBR}", base + timedelta(hours=1, minutes=index),
                warehouse_name=name, parent_warehouse=f"All Warehouses - {COMPANY_ABBR}",
                company=COMPANY, is_group=0, disabled=0)
        for index, name in enumerate(WAREHOUSES)
    ]
    dataset.accounts = [
        _master(_account(name), base + timedelta(hours=2, minutes=index), account_name=name,
                account_number=number, parent_account="", root_type=root, account_type=kind,
                company=COMPANY, is_group=0)
        for index, (name, number, root, kind) in enumerate(ACCOUNTS)
    ]
    dataset.cost_centers = [
        _master(f"Main - {COMPANY_ABBR}", base + timedelta(hours=3), cost_center_name="Main",
                parent_cost_center=f"{COMPANY} - {COMPANY_ABBR}", company=COMPANY, is_group=0)
    ]
    dataset.suppliers = [
        _master(f"SUP-{number:04d}", _stamp(rng, date(2023, 5, 1) + timedelta(days=rng.randrange(90))),
                supplier_name=f"Supplier {number}", supplier_group=rng.choice(SUPPLIER_GROUPS),
                country="United States", disabled=0)
        for number in range(1, SUPPLIER_COUNT + 1)
    ]


def _lines(rng, hashes, items, parenttype, extra):
    rows = []
    for index, item in enumerate(rng.sample(items, rng.randint(1, 4)), start=1):
        qty = Decimal(rng.randint(1, 30))
        rate = money(item["standard_rate"] * Decimal(str(round(rng.uniform(0.6, 0.9), 4))))
        amount = money(qty * rate)
        rows.append({
            "name": hashes.next(), "parenttype": parenttype, "parentfield": "items", "idx": index,
            "item_code": item["name"], "qty": qty, "rate": rate, "amount": amount,
            "base_amount": amount, "warehouse": f"Stores - {COMPANY_ABBR}", **extra(qty),
        })
    return rows


def _document(name, modified, docstatus, rows, **fields):
    total = sum((row["amount"] for row in rows), Decimal("0.00"))
    document = {
        "name": name, "company": COMPANY, "currency": CURRENCY, "conversion_rate": Decimal("1"),
        "grand_total": total, "base_grand_total": total, "docstatus": docstatus,
        "creation": modified, "modified": modified, "items": rows, **fields,
    }
    for row in rows:
        row.update(parent=name, docstatus=docstatus, modified=modified, creation=modified)
    return document


def _docstatus(rng):
    roll = rng.random()
    return 0 if roll < 0.03 else 2 if roll < 0.07 else 1


def build_transactions(rng, dataset):
    hashes = _Hashes(rng)
    span = (LAST_DAY - FIRST_DAY).days + 1
    day = lambda: FIRST_DAY + timedelta(days=rng.randrange(span))  # noqa: E731

    purchase_invoices = []
    for number in range(1, PURCHASE_INVOICE_COUNT + 1):
        posting = day()
        status = _docstatus(rng)
        rows = _lines(rng, hashes, dataset.items, "Purchase Invoice", lambda qty: {"cost_center": f"Main - {COMPANY_ABBR}"})
        document = _document(
            f"ACC-PINV-{posting.year}-{number:05d}", _stamp(rng, posting), status, rows,
            supplier=rng.choice(dataset.suppliers)["name"], posting_date=posting,
            due_date=posting + timedelta(days=30), is_return=0,
            status={0: "Draft", 1: "Paid", 2: "Cancelled"}[status],
        )
        document["outstanding_amount"] = Decimal("0.00")
        purchase_invoices.append(document)

    sales_orders = []
    for number in range(1, SALES_ORDER_COUNT + 1):
        ordered = day()
        status = _docstatus(rng)
        rows = _lines(rng, hashes, dataset.items, "Sales Order",
                      lambda qty: {"delivered_qty": qty if rng.random() < 0.8 else Decimal(0)})
        sales_orders.append(_document(
            f"SAL-ORD-{ordered.year}-{number:05d}", _stamp(rng, ordered), status, rows,
            customer=rng.choice(dataset.customers)["name"], transaction_date=ordered,
            delivery_date=ordered + timedelta(days=14), per_delivered=Decimal("100.000"),
            per_billed=Decimal("100.000"),
            status={0: "Draft", 1: "Completed", 2: "Cancelled"}[status],
        ))

    purchase_orders = []
    for number in range(1, PURCHASE_ORDER_COUNT + 1):
        ordered = day()
        status = _docstatus(rng)
        rows = _lines(rng, hashes, dataset.items, "Purchase Order",
                      lambda qty: {"received_qty": qty})
        purchase_orders.append(_document(
            f"PUR-ORD-{ordered.year}-{number:05d}", _stamp(rng, ordered), status, rows,
            supplier=rng.choice(dataset.suppliers)["name"], transaction_date=ordered,
            schedule_date=ordered + timedelta(days=10), per_received=Decimal("100.000"),
            per_billed=Decimal("100.000"),
            status={0: "Draft", 1: "Completed", 2: "Cancelled"}[status],
        ))

    payments = []
    for number in range(1, PAYMENT_ENTRY_COUNT + 1):
        posting = day()
        status = _docstatus(rng)
        receive = rng.random() < 0.7
        amount = money(rng.uniform(50, 5000))
        modified = _stamp(rng, posting)
        payments.append({
            "name": f"ACC-PAY-{posting.year}-{number:05d}",
            "payment_type": "Receive" if receive else "Pay", "posting_date": posting,
            "party_type": "Customer" if receive else "Supplier",
            "party": rng.choice(dataset.customers if receive else dataset.suppliers)["name"],
            "paid_amount": amount, "received_amount": amount, "base_paid_amount": amount,
            "mode_of_payment": rng.choice(MODES_OF_PAYMENT),
            "status": {0: "Draft", 1: "Submitted", 2: "Cancelled"}[status],
            "company": COMPANY, "docstatus": status, "creation": modified, "modified": modified,
        })

    dataset.purchase_invoices = purchase_invoices
    dataset.sales_orders = sales_orders
    dataset.purchase_orders = purchase_orders
    dataset.payment_entries = payments
    build_ledgers(rng, hashes, dataset)


def _gl(hashes, voucher_type, voucher, account, debit, credit, party_type="", party=""):
    return {
        "name": hashes.next(), "posting_date": voucher["posting_date"], "account": account,
        "party_type": party_type, "party": party, "voucher_type": voucher_type,
        "voucher_no": voucher["name"], "debit": debit, "credit": credit,
        "cost_center": f"Main - {COMPANY_ABBR}", "company": COMPANY,
        "fiscal_year": str(voucher["posting_date"].year), "is_opening": "No",
        "is_cancelled": 1 if voucher["docstatus"] == 2 else 0, "docstatus": 1,
        "creation": voucher["modified"], "modified": voucher["modified"],
    }


def build_ledgers(rng, hashes, dataset):
    """GL entries for purchase invoices and payments, stock entries for purchase invoice items.

    Drafts post nothing; cancelled vouchers keep their entries with is_cancelled 1.
    """
    gl_entries = []
    stock_entries = []
    balance = {}
    for invoice in sorted(dataset.purchase_invoices, key=lambda document: document["modified"]):
        if invoice["docstatus"] == 0:
            continue
        total = invoice["grand_total"]
        gl_entries.append(_gl(hashes, "Purchase Invoice", invoice, _account("Stock In Hand"), total, Decimal("0.00")))
        gl_entries.append(_gl(hashes, "Purchase Invoice", invoice, _account("Creditors"), Decimal("0.00"), total,
                              "Supplier", invoice["supplier"]))
        for row in invoice["items"]:
            key = (row["item_code"], row["warehouse"])
            quantity = balance.get(key, Decimal("0.000"))
            if invoice["docstatus"] == 1:
                quantity += row["qty"]
                balance[key] = quantity
            stock_entries.append({
                "name": hashes.next(), "item_code": row["item_code"], "warehouse": row["warehouse"],
                "posting_date": invoice["posting_date"],
                "posting_time": invoice["modified"].strftime("%H:%M:%S.%f"),
                "actual_qty": row["qty"], "qty_after_transaction": quantity,
                "valuation_rate": row["rate"], "stock_value": money(quantity * row["rate"]),
                "stock_value_difference": row["amount"], "voucher_type": "Purchase Invoice",
                "voucher_no": invoice["name"], "company": COMPANY,
                "is_cancelled": 1 if invoice["docstatus"] == 2 else 0, "docstatus": 1,
                "creation": invoice["modified"], "modified": invoice["modified"],
            })
    for payment in dataset.payment_entries:
        if payment["docstatus"] == 0:
            continue
        amount = payment["paid_amount"]
        if payment["payment_type"] == "Receive":
            gl_entries.append(_gl(hashes, "Payment Entry", payment, _account("Bank"), amount, Decimal("0.00")))
            gl_entries.append(_gl(hashes, "Payment Entry", payment, _account("Debtors"), Decimal("0.00"), amount,
                                  "Customer", payment["party"]))
        else:
            gl_entries.append(_gl(hashes, "Payment Entry", payment, _account("Creditors"), amount, Decimal("0.00"),
                                  "Supplier", payment["party"]))
            gl_entries.append(_gl(hashes, "Payment Entry", payment, _account("Bank"), Decimal("0.00"), amount))
    dataset.gl_entries = gl_entries
    dataset.stock_ledger_entries = stock_entries

    modified = datetime(2025, 12, 31, 23, 0, 0, 1)
    rates = {item["name"]: item["standard_rate"] for item in dataset.items}
    dataset.bins = [
        {
            "name": hashes.next(), "item_code": item_code, "warehouse": warehouse,
            "actual_qty": quantity, "reserved_qty": Decimal("0.000"),
            "ordered_qty": Decimal("0.000"), "projected_qty": quantity,
            "valuation_rate": rates[item_code], "stock_value": money(quantity * rates[item_code]),
            "docstatus": 0, "creation": modified, "modified": modified,
        }
        for (item_code, warehouse), quantity in sorted(balance.items())
    ]


def extend_dataset(dataset):
    """Add every non-sales DocType to a dataset built by ``build_dataset``."""
    rng = random.Random(dataset.seed ^ SEED_SALT)
    build_masters(rng, dataset)
    build_transactions(rng, dataset)
    return dataset

"""SYNTHETIC transaction feed with injected fraud patterns, for zkguard's fraud-guard demo.

**THE DATA IS SYNTHETIC.** Every account, transaction and fraud episode is drawn from a seeded
random generator with made-up distributions; nothing here comes from, or is calibrated against,
a real chain. It exists so that the demo has a plausible, documented, reproducible feed to train
and prove on (``docs/FRAUD_FEED.md`` documents it; ``scripts/make_feed.py`` is the command).

This module owns the generator: behaviour profiles of normal accounts, the fraud patterns, the
feature definitions and the feed CSV. A feed is simulated as events, not drawn feature by feature:

1. accounts (subjects, lowercase ``0x`` + 40 hex addresses drawn from the seed) get a profile,
   an age, a typical amount, a balance, known counterparties and a pre-feed history;
2. normal transactions and ERC-20 ``approve`` calls are scheduled per account;
3. fraud episodes (:data:`PATTERNS`) add transactions (and approvals, and attacker accounts);
4. everything is merged in time order (timestamps made strictly increasing) and the history
   features (:data:`FEATURES`: gaps, velocity, amount vs. the account's median, new recipient,
   approvals in the last day) are computed from each account's own earlier events.

Rows are outgoing value movements of the subject (a ``transferFrom`` spending the subject's
allowance counts as the subject's). Balances are not a ledger: ``share_of_balance`` relates each
amount to a noisy draw of the account's balance. Deterministic: the simulation draws only from
``numpy.random.Generator(PCG64(seed))`` (the training feed's episode plan from ``PCG64([seed, 1])``),
so a spec and seed give a byte-identical CSV.
"""

from __future__ import annotations

import bisect
import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DAY = 86_400
HOUR = 3_600


@dataclass(frozen=True)
class Feature:
    """One model input: a quantity clipped to ``[low, high]`` (in ``unit``), then -- for heavy-tailed
    quantities -- written as its base-10 logarithm (``log10`` is True and the name says so)."""

    name: str
    unit: str
    low: float
    high: float
    log10: bool
    meaning: str


# The model input columns, in order. Log scaling keeps every value small (in practice |x| < 25, so
# fixed point keeps a fine scale) and lets a linear filter use the heavy-tailed quantities.
FEATURES_DOC = (
    Feature("log10_amount_usd", "USD", 0.01, 500_000.0, True, "value moved by the transaction"),
    Feature("log10_amount_vs_median", "ratio", 0.001, 1_000.0, True,
            "amount / median of the account's previous 20 amounts (1 when it has none)"),
    Feature("log10_seconds_since_prev", "s", 1.0, float(DAY), True,
            "time since the account's previous transaction (1 day when longer, or when it has none)"),
    Feature("txs_last_hour", "count", 0.0, 1_000.0, False, "the account's transactions in the preceding hour"),
    Feature("new_recipient", "0/1", 0.0, 1.0, False, "1 if the account never sent to this recipient before"),
    Feature("log10_recipient_age_days", "days", 0.01, 3_650.0, True,
            "time since the recipient's first on-chain activity (15 min .. 10 years)"),
    Feature("is_contract_recipient", "0/1", 0.0, 1.0, False, "1 if the recipient is a contract"),
    Feature("gas_price_ratio", "ratio", 0.5, 20.0, False, "the transaction's gas price / the block's median gas price"),
    Feature("share_of_balance", "fraction", 0.0, 1.0, False, "amount / the account's balance before the transaction"),
    Feature("approvals_last_day", "count", 0.0, 1_000.0, False, "ERC-20 approve() calls by the account in the last 24 h"),
    Feature("log10_account_age_days", "days", 0.01, 3_650.0, True,
            "time since the account's first on-chain activity (15 min .. 10 years)"),
)
FEATURES = tuple(f.name for f in FEATURES_DOC)
DECIMALS = 4  # every feature is rounded to 4 decimals (counts and flags are whole numbers anyway)
META_COLUMNS = ("subject", "timestamp", "pattern", "label")
COLUMNS = META_COLUMNS + FEATURES

NORMAL = "normal"
PATTERNS = ("drain_burst", "approval_phishing", "address_poisoning", "gas_panic", "slow_exfiltration")


@dataclass(frozen=True)
class Profile:
    """How a normal account of one kind behaves. Amounts are log-normal around the account's
    own median (the profile's median times a per-account log-normal factor)."""

    name: str
    amount_median_usd: float
    amount_sigma: float
    txs_per_day: float
    counterparties: int  # known recipients before the feed starts
    p_new_recipient: float  # chance a transaction goes to a recipient the account never used
    p_contract: float  # chance a known counterparty / new recipient is a contract
    gas_mu: float  # log of the median gas_price_ratio
    gas_sigma: float
    approvals_per_day: float
    balance_multiple: float  # balance / the account's median amount
    age_days: tuple[float, float]  # account age at the feed's start, uniform
    timing: str  # "poisson" (uniform times), "sessions" (bursts of 2-10, see session_gap_s) or "periodic"
    session_gap_s: float = 0.0  # mean gap inside a session


PROFILES = {
    p.name: p
    for p in (
        Profile("retail", 150.0, 1.1, 2.0, 6, 0.15, 0.35, 0.0, 0.15, 0.3, 20.0, (20.0, 2_500.0), "poisson"),
        Profile("trader", 3_000.0, 1.2, 8.0, 10, 0.05, 0.75, 0.15, 0.3, 3.0, 10.0, (60.0, 2_000.0), "sessions", 150.0),
        Profile("treasury", 25_000.0, 0.7, 1.5, 8, 0.04, 0.3, 0.0, 0.1, 0.2, 200.0, (200.0, 1_500.0), "poisson"),
        Profile("bot", 800.0, 0.6, 48.0, 3, 0.0, 1.0, 0.35, 0.25, 0.5, 40.0, (10.0, 400.0), "periodic"),
    )
}


@dataclass(frozen=True)
class Episode:
    """One injected fraud episode: ``rows`` fraudulent transactions of ``pattern``, starting at a
    uniform time in the fraction ``window`` of the feed's normal time span."""

    pattern: str
    rows: int
    window: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class FeedSpec:
    """What to simulate: the normal transactions fill ``n_transactions`` minus the episodes' rows,
    spread over the time the accounts' ``txs_per_day`` need for them."""

    n_transactions: int
    accounts: dict  # profile name -> number of accounts
    start: int  # unix seconds of the feed's start
    episodes: tuple[Episode, ...]


# Fraud rows per pattern in the training feed, as fractions of the fraud rows, and each
# pattern's episode size range (rows, inclusive).
TRAINING_MIX = {
    "drain_burst": 0.30, "approval_phishing": 0.15, "address_poisoning": 0.20, "gas_panic": 0.10,
    "slow_exfiltration": 0.25,
}
EPISODE_ROWS = {
    "drain_burst": (6, 14), "approval_phishing": (1, 3), "address_poisoning": (12, 24), "gas_panic": (1, 3),
    "slow_exfiltration": (3, 6),
}
TRAINING_START = 1_767_225_600  # 2026-01-01 00:00:00 UTC
DEMO_START = 1_769_904_000  # 2026-02-01 00:00:00 UTC


def pattern_rows(n_fraud: int, mix: dict = TRAINING_MIX) -> dict:
    """Fraud rows per pattern: ``round(share * n_fraud)``, the last pattern taking the remainder."""
    names = list(mix)
    rows = {p: int(round(mix[p] * n_fraud)) for p in names[:-1]}
    rows[names[-1]] = n_fraud - sum(rows.values())
    return rows


def training_spec(n_transactions: int = 4_000, fraud_share: float = 0.05, seed: int = 1) -> FeedSpec:
    """The training feed: 44 accounts per 1000 rows (about five days of activity), the fraud spread over
    the whole span in episodes whose sizes are drawn from ``EPISODE_ROWS``; the last episode of a
    pattern takes the rest of its quota (up to ``lo - 1`` rows more than ``hi``)."""
    rng = np.random.Generator(np.random.PCG64([seed, 1]))  # the episode plan; the feed uses `seed`
    episodes = []
    for pattern, quota in pattern_rows(int(round(fraud_share * n_transactions))).items():
        lo, hi = EPISODE_ROWS[pattern]
        while quota > 0:
            rows = int(rng.integers(lo, hi + 1))
            rows = quota if quota - rows < lo else rows  # no episode smaller than `lo` (unless the quota is)
            episodes.append(Episode(pattern, rows))
            quota -= rows
    k = max(1, n_transactions // 1_000)
    accounts = {"retail": 30 * k, "trader": 8 * k, "treasury": 5 * k, "bot": 1 * k}
    return FeedSpec(n_transactions, accounts, TRAINING_START, tuple(episodes))


# The demo feed: a quiet start with isolated incidents, then two drain bursts in the last ~20%
# (the circuit breaker's moment).
DEMO_EPISODES = (
    Episode("address_poisoning", 10, (0.15, 0.2)),
    Episode("slow_exfiltration", 3, (0.25, 0.3)),
    Episode("approval_phishing", 2, (0.4, 0.45)),
    Episode("gas_panic", 2, (0.6, 0.65)),
    Episode("drain_burst", 12, (0.84, 0.86)),
    Episode("drain_burst", 10, (0.9, 0.92)),
)


def demo_spec(n_transactions: int = 256) -> FeedSpec:
    accounts = {"retail": 14, "trader": 4, "treasury": 3, "bot": 1}
    return FeedSpec(n_transactions, accounts, DEMO_START, DEMO_EPISODES)


# ------------------------------------------------------------------------------------ simulation


@dataclass
class _Account:
    address: str
    profile: str
    created: float
    median_amount: float
    balance: float
    gas_mu: float
    counterparties: list  # recipient ids
    prior_amounts: list  # the pre-feed history (amount_vs_median's first window)
    prior_tx: float | None  # the last pre-feed transaction
    approvals: list = field(default_factory=list)


@dataclass
class _Tx:
    account: int
    t: float
    pattern: str
    amount: float
    recipient: int
    gas: float
    share: float


class _Sim:
    def __init__(self, spec: FeedSpec, seed: int):
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.start = float(spec.start)
        self.recipients: list = []  # (created, is_contract)
        self.accounts: list = []
        self.addresses: set = set()
        self.txs: list = []
        self.victims: set = set()
        n_fraud = sum(e.rows for e in spec.episodes)
        if not 0 <= n_fraud < spec.n_transactions:
            raise ValueError(f"{n_fraud} fraud rows for {spec.n_transactions} transactions")
        self.n_normal = spec.n_transactions - n_fraud
        # Shared, established recipients: DEX routers / lending pools (contracts), exchange deposits (EOAs).
        self.shared_contracts = [self.recipient(self.start - self.uniform(200, 1_500) * DAY, True) for _ in range(12)]
        self.shared_eoas = [self.recipient(self.start - self.uniform(100, 2_000) * DAY, False) for _ in range(8)]
        for name, count in spec.accounts.items():
            for _ in range(count):
                self.accounts.append(self.normal_account(PROFILES[name]))
        rate = sum(PROFILES[a.profile].txs_per_day for a in self.accounts)
        self.duration = self.n_normal / rate * DAY

    def uniform(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def lognormal(self, mu: float, sigma: float) -> float:
        return float(self.rng.lognormal(mu, sigma))

    def address(self) -> str:
        while True:
            a = "0x" + self.rng.bytes(20).hex()
            if a not in self.addresses:
                self.addresses.add(a)
                return a

    def recipient(self, created: float, is_contract: bool) -> int:
        self.recipients.append((created, is_contract))
        return len(self.recipients) - 1

    def new_recipient_for(self, t: float, p_contract: float) -> int:
        """A recipient a normal account has not used: mostly established, one in five days old."""
        if self.rng.random() < 0.2:
            age = self.uniform(0.0, 3.0)
        else:
            age = min(self.lognormal(math.log(180.0), 1.3), 3_000.0)
        return self.recipient(t - age * DAY, bool(self.rng.random() < p_contract))

    def normal_account(self, p: Profile) -> _Account:
        median = p.amount_median_usd * self.lognormal(0.0, 0.5)
        counterparties = []
        for _ in range(p.counterparties):
            if self.rng.random() < p.p_contract:
                counterparties.append(int(self.rng.choice(self.shared_contracts)))
            elif self.rng.random() < 0.3:
                counterparties.append(int(self.rng.choice(self.shared_eoas)))
            else:
                counterparties.append(self.new_recipient_for(self.start, 0.0))
        prior = [self.amount(median, p.amount_sigma) for _ in range(20)]
        return _Account(
            address=self.address(),
            profile=p.name,
            created=self.start - self.uniform(*p.age_days) * DAY,
            median_amount=median,
            balance=median * p.balance_multiple * self.lognormal(0.0, 0.5),
            gas_mu=p.gas_mu,
            counterparties=counterparties,
            prior_amounts=prior,
            prior_tx=self.start - float(self.rng.exponential(DAY / p.txs_per_day)),
        )

    def amount(self, median: float, sigma: float) -> float:
        return self.lognormal(math.log(median), sigma)

    def balance_now(self, a: _Account) -> float:
        return a.balance * self.lognormal(0.0, 0.2)

    # ---- normal behaviour

    def normal_times(self, p: Profile, n: int) -> list:
        end = self.start + self.duration
        if p.timing == "periodic":  # a schedule with +-20% jitter
            period = self.duration / max(n, 1)
            phase = self.uniform(0.2, 1.0) * period
            return [self.start + phase + i * period + self.uniform(-0.2, 0.2) * period for i in range(n)]
        if p.timing == "poisson":
            return sorted(self.uniform(self.start, end) for _ in range(n))
        times = []  # sessions of 2-10 transactions with exponential gaps
        while len(times) < n:
            t = self.uniform(self.start, end)
            for _ in range(min(n - len(times), int(self.rng.integers(2, 11)))):
                times.append(t)
                t += 10.0 + float(self.rng.exponential(p.session_gap_s))
        return sorted(times)

    def normal_activity(self) -> None:
        weights = np.array([PROFILES[a.profile].txs_per_day * self.uniform(0.6, 1.4) for a in self.accounts])
        counts = self.rng.multinomial(self.n_normal, weights / weights.sum())
        for i, (a, n) in enumerate(zip(self.accounts, counts)):
            p = PROFILES[a.profile]
            for t in self.normal_times(p, int(n)):
                if self.rng.random() < p.p_new_recipient:
                    r = self.new_recipient_for(t, p.p_contract)
                    if self.rng.random() < 0.5:
                        a.counterparties.append(r)  # kept as a counterparty
                else:
                    k = len(a.counterparties)
                    zipf = 1.0 / np.arange(1, k + 1)
                    r = a.counterparties[int(self.rng.choice(k, p=zipf / zipf.sum()))]
                amount = self.amount(a.median_amount, p.amount_sigma)
                gas = self.lognormal(a.gas_mu, p.gas_sigma)
                self.txs.append(_Tx(i, t, NORMAL, amount, r, gas, amount / self.balance_now(a)))
            n_approvals = int(self.rng.poisson(p.approvals_per_day * (self.duration + DAY) / DAY))
            a.approvals += [self.uniform(self.start - DAY, self.start + self.duration) for _ in range(n_approvals)]

    # ---- fraud

    def victim(self, profiles: tuple, weights: tuple) -> int:
        """A normal account of one of ``profiles`` not yet hit (any of them once all were)."""
        name = str(self.rng.choice(profiles, p=np.asarray(weights) / sum(weights)))
        pool = [i for i, a in enumerate(self.accounts) if a.profile == name and i not in self.victims]
        pool = pool or [i for i, a in enumerate(self.accounts) if a.profile == name]
        if not pool:
            raise ValueError(f"the feed has no {name} account to inject fraud into")
        i = int(self.rng.choice(pool))
        self.victims.add(i)
        return i

    def drain(self, i: int, t: float, recipients: list, n: int, share: tuple, gap: tuple, gas: tuple, pattern: str):
        """``n`` transfers each taking a uniform ``share`` of what is left of account ``i``'s balance."""
        left = self.balance_now(self.accounts[i])
        for _ in range(n):
            amount = left * self.uniform(*share)
            left -= amount
            r = recipients[int(self.rng.integers(len(recipients)))]
            self.txs.append(_Tx(i, t, pattern, amount, r, self.lognormal(*gas), amount / (amount + left)))
            t += gap[0] + float(self.rng.exponential(gap[1]))

    def episode(self, e: Episode) -> None:
        t0 = self.start + self.uniform(*e.window) * self.duration
        if e.pattern == "drain_burst":
            # A compromised key: many large transfers within minutes to 1-3 fresh EOAs, paying up for gas.
            i = self.victim(("retail", "trader", "treasury"), (0.5, 0.4, 0.1))
            fresh = [self.recipient(t0 - self.uniform(0.0, 0.5) * DAY, False) for _ in range(1 + e.rows // 5)]
            self.drain(i, t0, fresh, e.rows, (0.1, 0.35), (5.0, 45.0), (math.log(2.2), 0.3), e.pattern)
        elif e.pattern == "approval_phishing":
            # Approvals signed on a phishing site, then the attacker's contract spends them (half or more
            # of the balance each) within the hour.
            i = self.victim(("retail", "trader"), (0.6, 0.4))
            n_approvals = int(self.rng.integers(1, 3))
            self.accounts[i].approvals += [t0 - self.uniform(60.0, HOUR) for _ in range(n_approvals)]
            spender = self.recipient(t0 - self.uniform(0.0, 2.0) * DAY, True)
            self.drain(i, t0, [spender], e.rows, (0.5, 0.95), (20.0, 60.0), (math.log(1.3), 0.2), e.pattern)
        elif e.pattern == "address_poisoning":
            # A days-old attacker account sprays dust to many established addresses, seeding their
            # histories with a look-alike of a counterparty.
            self.accounts.append(
                _Account(address=self.address(), profile="attacker", created=t0 - self.uniform(0.1, 2.0) * DAY,
                         median_amount=1.0, balance=self.uniform(20.0, 200.0), gas_mu=0.0, counterparties=[],
                         prior_amounts=[], prior_tx=None)
            )
            i, t = len(self.accounts) - 1, t0
            for _ in range(e.rows):
                r = self.recipient(t - min(self.lognormal(math.log(500.0), 0.8), 3_000.0) * DAY, False)
                amount = self.lognormal(math.log(0.05), 1.0)
                gas = self.lognormal(0.0, 0.15)
                self.txs.append(_Tx(i, t, e.pattern, amount, r, gas, amount / self.accounts[i].balance))
                t += 8.0 + float(self.rng.exponential(30.0))
        elif e.pattern == "gas_panic":
            # A leaked key swept in a race with the owner: almost the whole balance, gas several times the median.
            i = self.victim(("retail", "trader", "treasury"), (0.3, 0.4, 0.3))
            fresh = [self.recipient(t0 - self.uniform(0.0, 0.2) * DAY, False)]
            self.drain(i, t0, fresh, e.rows, (0.85, 1.0), (3.0, 20.0), (math.log(6.0), 0.35), e.pattern)
        elif e.pattern == "slow_exfiltration":
            # An insider / quietly compromised key: a few transfers of 2-5x the usual amount, hours apart,
            # to one recently created EOA, at normal gas.
            i = self.victim(("treasury", "trader"), (0.6, 0.4))
            a = self.accounts[i]
            r = self.recipient(t0 - self.uniform(1.0, 14.0) * DAY, False)
            t = t0
            for _ in range(e.rows):
                amount = a.median_amount * self.uniform(2.0, 5.0)
                gas = self.lognormal(a.gas_mu, PROFILES[a.profile].gas_sigma)
                self.txs.append(_Tx(i, t, e.pattern, amount, r, gas, amount / self.balance_now(a)))
                t += self.uniform(2.0, 8.0) * HOUR
        else:
            raise ValueError(f"unknown fraud pattern {e.pattern!r}; known: {PATTERNS}")

    # ---- features

    def rows(self) -> "Feed":
        order = sorted(range(len(self.txs)), key=lambda k: (self.txs[k].t, k))
        txs = [self.txs[k] for k in order]
        stamps, prev = [], None
        for tx in txs:  # whole seconds, strictly increasing
            s = int(math.floor(tx.t))
            s = s if prev is None or s > prev else prev + 1
            stamps.append(s)
            prev = s
        history = {i: [] for i in range(len(self.accounts))}  # timestamps of the account's transactions
        amounts = {i: list(a.prior_amounts[-20:]) for i, a in enumerate(self.accounts)}
        known = {i: set(a.counterparties) for i, a in enumerate(self.accounts)}
        approvals = {i: sorted(a.approvals) for i, a in enumerate(self.accounts)}
        X = np.empty((len(txs), len(FEATURES)), dtype=np.float64)
        for row, (tx, t) in enumerate(zip(txs, stamps)):
            a, h = self.accounts[tx.account], history[tx.account]
            last = h[-1] if h else a.prior_tx
            recent = amounts[tx.account][-20:]
            created, is_contract = self.recipients[tx.recipient]
            ap = approvals[tx.account]
            X[row] = (
                tx.amount,
                tx.amount / float(np.median(recent)) if recent else 1.0,
                DAY if last is None else t - last,
                len(h) - bisect.bisect_right(h, t - HOUR),
                float(tx.recipient not in known[tx.account]),
                (t - created) / DAY,
                float(is_contract),
                tx.gas,
                tx.share,
                bisect.bisect_right(ap, t) - bisect.bisect_right(ap, t - DAY),
                (t - a.created) / DAY,
            )
            h.append(t)
            amounts[tx.account].append(tx.amount)
            known[tx.account].add(tx.recipient)
        for j, f in enumerate(FEATURES_DOC):
            x = np.clip(X[:, j], f.low, f.high)
            X[:, j] = np.round(np.log10(x) if f.log10 else x, DECIMALS)
        return Feed(
            subjects=[self.accounts[tx.account].address for tx in txs],
            timestamps=np.array(stamps, dtype=np.int64),
            patterns=[tx.pattern for tx in txs],
            X=X,
        )


@dataclass
class Feed:
    """A generated feed, one row per transaction, in time order."""

    subjects: list
    timestamps: np.ndarray
    patterns: list
    X: np.ndarray  # columns: FEATURES

    @property
    def labels(self) -> np.ndarray:
        return np.array([p != NORMAL for p in self.patterns], dtype=np.int64)


def generate(spec: FeedSpec, seed: int) -> Feed:
    """Simulates ``spec`` with ``Generator(PCG64(seed))``; exactly ``spec.n_transactions`` rows."""
    sim = _Sim(spec, seed)
    sim.normal_activity()
    for e in spec.episodes:
        sim.episode(e)
    feed = sim.rows()
    assert len(feed.patterns) == spec.n_transactions
    return feed


def training_feed(n_transactions: int = 4_000, fraud_share: float = 0.05, seed: int = 1) -> Feed:
    return generate(training_spec(n_transactions, fraud_share, seed), seed)


def demo_feed(n_transactions: int = 256, seed: int = 2) -> Feed:
    return generate(demo_spec(n_transactions), seed)


def _num(v: float) -> str:
    return repr(float(v))  # shortest text that round-trips, as in the reference CSVs


def write_feed_csv(feed: Feed, path: str | Path) -> Path:
    """``subject, timestamp, pattern, label`` then the :data:`FEATURES` columns, one row per transaction."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for subject, t, pattern, label, x in zip(feed.subjects, feed.timestamps, feed.patterns, feed.labels, feed.X):
            w.writerow([subject, str(int(t)), pattern, str(int(label))] + [_num(v) for v in x])
    return path

"""`echotune accounts ...`: the dashboard's accounts, made and managed from the shell (the first admin comes from here)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from echotune.settings import Settings
from serving.accounts import ROLES

accounts_app = typer.Typer(help="Dashboard accounts: add, list, reset a password, change a role, remove.",
                           no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

RoleOption = Annotated[str, typer.Option("--role", "-r", help=f"One of: {'; '.join(f'{r}: {w}' for r, w in ROLES.items())}.")]
ListenerOption = Annotated[str | None, typer.Option(
    "--listener", "-l", help="Whose listening the account sees (a listener account: its own name by default).")]
PasswordOption = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from standard input instead of generating one.")]


@contextmanager
def _accounts():
    """The accounts in the configured operational store; a refusal as one line and exit code 1."""
    from serving.accounts import AccountError, Accounts
    from serving.store import OperationalStore

    settings = Settings.from_env()
    try:
        yield Accounts(OperationalStore.connect(settings.mongodb_uri, settings.home))
    except (AccountError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None


def _password(from_stdin: bool) -> str | None:
    return typer.get_text_stream("stdin").readline().rstrip("\n") if from_stdin else None


def _hand_over(name: str, password: str, generated: bool) -> None:
    if generated:
        out.print(f"password for {escape(name)}: [bold]{escape(password)}[/]  (shown once: hand it over, then "
                  "sign in at the dashboard)", highlight=False)


@accounts_app.command("add")
def add_command(name: str, role: RoleOption = "listener", listener: ListenerOption = None,
                password_stdin: PasswordOption = False) -> None:
    """Add an account NAME; prints a generated password unless --password-stdin gives one."""
    with _accounts() as accounts:
        password = accounts.add(name, role, listener, _password(password_stdin))
    out.print(f"added {escape(name)} ({role})", highlight=False)
    _hand_over(name, password, not password_stdin)


@accounts_app.command("passwd")
def passwd_command(name: str, password_stdin: PasswordOption = False) -> None:
    """Give NAME a new password (generated unless --password-stdin); their sessions end."""
    with _accounts() as accounts:
        password = accounts.set_password(name, _password(password_stdin))
    out.print(f"new password set for {escape(name)}; their sessions have ended", highlight=False)
    _hand_over(name, password, not password_stdin)


@accounts_app.command("role")
def role_command(name: str, role: Annotated[str, typer.Argument(help=f"One of: {', '.join(ROLES)}.")],
                 listener: ListenerOption = None) -> None:
    """Change NAME's role (and whose listening it sees)."""
    with _accounts() as accounts:
        accounts.set_role(name, role, listener)
    out.print(f"{escape(name)} is now {role}", highlight=False)


@accounts_app.command("remove")
def remove_command(name: str) -> None:
    """Remove NAME's account and end its sessions (their listening stays)."""
    with _accounts() as accounts:
        accounts.remove(name)
    out.print(f"removed {escape(name)}", highlight=False)


@accounts_app.command("list")
def list_command() -> None:
    """Every account with its role and whose listening it sees."""
    with _accounts() as accounts:
        rows = accounts.all()
    if not rows:
        out.print("no accounts yet: the dashboard is open to anyone who reaches it. Add the first admin with "
                  "`echotune accounts add NAME --role admin`.")
        return
    table = Table("account", "role", "sees", "created")
    for row in rows:
        sees = "everyone" if row["role"] != "listener" else row["listener"]
        table.add_row(escape(row["name"]), row["role"], escape(sees or ""), f"{row['created_at']:%Y-%m-%d %H:%M}")
    out.print(table)

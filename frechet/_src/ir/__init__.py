"""The typed SSA intermediate representation shared by every pass."""

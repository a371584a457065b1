"""A plain module with a function that a lazy task imports when it runs."""

import platform


def main():
    print(f"daily report from {platform.node() or 'this machine'}")

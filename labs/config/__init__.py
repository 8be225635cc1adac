"""Configs: the Hydra schemas (``schema``), config values read as exact numbers (``inputs``), and
one-line explanations of every user error (``errors``)."""

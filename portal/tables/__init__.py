"""Piccolo tables: columns and enums only. Services own every read and write."""

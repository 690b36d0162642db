"""Emulator of Popin's "Insta Call" external API: capture, slots and schedule."""

from sandbox.popin.api import PopinApi
from sandbox.popin.slot_times import slot_clock, slot_date, slot_time

__all__ = ["PopinApi", "slot_clock", "slot_date", "slot_time"]

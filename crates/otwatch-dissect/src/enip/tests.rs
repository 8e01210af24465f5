//! Unit tests for the EtherNet/IP and CIP dissector.

"""The SDK version, sent in the User-Agent header."""

VERSION = "0.1.0"

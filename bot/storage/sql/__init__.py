"""What both backends share: query constants and row helpers (`common`), written once."""

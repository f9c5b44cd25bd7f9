"""ICAO 9303 eMRTDs (passports and ICAO cards) over PC/SC: APDUs and BER-TLV, Basic Access
Control and 3DES secure messaging, the LDS files (EF.COM, DG1, DG2, EF.SOD), the reader
backend, and a card emulator that plugs into Debian's vsmartcard-vpcd."""

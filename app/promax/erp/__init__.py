"""Access to the customer ERP: encrypted credentials, URL checks and a read-only client."""

"""Installing the portal to a phone's home screen: manifest, service worker, offline page."""

"""What the tests share, by what they test: wizard (the app at one step), wizard_lab (a Session brought
to a step), oauth_browser, lab (which servers), probes, migrate. Test files never import each other."""

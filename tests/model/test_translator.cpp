// translator tests: filled in next

module flexcore.io/hack/images/pause

go 1.24.0

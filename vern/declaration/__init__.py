"""The privacy declaration: the policy as data, validated, published and rendered."""
